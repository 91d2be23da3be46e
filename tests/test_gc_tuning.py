"""The bot process's collector setting (why: bot.client.tune_gc)."""

from __future__ import annotations

import gc

import pytest

from bot.client import GC_YOUNG_THRESHOLD, tune_gc


@pytest.fixture
def thresholds():
    saved = gc.get_threshold()
    yield
    gc.set_threshold(*saved)


def test_the_youngest_generation_is_collected_less_often_and_the_others_are_left_alone(thresholds):
    gc.set_threshold(700, 10, 10)
    tune_gc()
    assert gc.get_threshold() == (GC_YOUNG_THRESHOLD, 10, 10)
    tune_gc()
    assert gc.get_threshold() == (GC_YOUNG_THRESHOLD, 10, 10)


def test_a_higher_threshold_set_by_the_operator_is_kept(thresholds):
    gc.set_threshold(50_000, 20, 30)
    tune_gc()
    assert gc.get_threshold() == (50_000, 20, 30)


async def test_a_started_bot_has_tuned_the_collector(start_bot, thresholds):
    gc.set_threshold(700, 10, 10)
    await start_bot()
    assert gc.get_threshold()[0] == GC_YOUNG_THRESHOLD
