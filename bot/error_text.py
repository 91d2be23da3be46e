"""The sentence for each error code, per language: the core raises codes with data, this writes the words."""

from __future__ import annotations

from datetime import date
from typing import Any

from .domain.discord_text import neutralise, truncate
from .domain.notices import ChannelMention, RoleMention, UserMention
from .errors import DiagnosedError
from .i18n import N_, Lang, Nn_

# code -> English source sentence; its {fields} are the error's data, rendered by field_text().
ERROR_TEXT: dict[str, str | tuple[str, str]] = {
    "generic": N_("Something went wrong on fanbot's side; nothing was changed. Please try again later."),
    # Not "nothing was changed": a connection lost during COMMIT leaves that unknown (though never half-done).
    "db.unavailable": N_("fanbot could not reach its database just now. Please try again in a minute."),
    "not_moderator": N_("Only moderators can do this (Manage Server permission or the server's moderator role)."),
    "guild_only": N_("fanbot's commands work inside a server, not in direct messages."),
    "check_failed": N_("You cannot use this command here."),
    "cooldown": N_("Slow down: try again in {seconds} s."),
    "bad_value": N_("'{value}' is not a valid {type} here."),
    # stars
    "name.empty": N_("The name is empty."),
    "name.too_long": N_("The name is too long ({length} characters); keep it to {limit}."),
    "name.mention": N_("The name cannot contain mentions or '@'."),
    "name.bad_character": N_("The name may only use letters, digits, spaces and - ' . · (found {character})."),
    "name.no_letter": N_("The name needs at least one letter."),
    "alias.empty": N_("An alias is empty."),
    "alias.too_long": N_("An alias is too long ({length} characters); keep each to {limit}."),
    "alias.mention": N_("Aliases cannot contain mentions or '@'."),
    "alias.bad_character": N_("Aliases may only use letters, digits, spaces and - ' . · (found {character})."),
    "alias.no_letter": N_("Each alias needs at least one letter."),
    "hangul.invalid": N_("The Hangul name must be written in Hangul syllables only, e.g. 송혜교."),
    "aliases.too_many": N_("Too many aliases ({n}); at most {limit}."),
    "birthday.invalid": N_("The birthday must be a real date written YYYY-MM-DD, e.g. 1981-11-22."),
    "birthday.out_of_range": N_("The birthday must be between 1900 and today."),
    "star.already_followed": N_("This server already follows {star}. Use /stars edit to change her names."),
    "star.nothing_to_change": N_("Nothing to change: give a new hangul, aliases or birthday."),
    "star.not_followed": N_("This server does not follow a star called '{name}'. See /stars list."),
    # her own accounts
    "social.handle_empty": N_("The handle is empty. Give her account's name, e.g. xeesoxee."),
    "social.handle_too_long": N_("The handle is too long; keep it to {limit} characters."),
    "social.handle_invalid": N_("A handle is only the account's name (letters, digits, . _ -), without /, ?, #, "
                                "spaces or a link."),
    "social.platform_unknown": N_("The platform must be one of {platforms}."),
    "social.no_template": N_("fanbot has no feed for {platform} accounts here: the bot's operator can set RSSHUB_BASE "
                             "or SOCIAL_FEED_TEMPLATES (see the README)."),
    # links
    "link.empty": N_("That link is empty; paste a full link starting with https://."),
    "link.too_long": N_("That link is longer than {limit} characters; use a shorter one."),
    "link.spaces": N_("That link contains spaces or control characters; paste it again."),
    "link.invalid": N_("That is not a valid link; paste a full link starting with https://."),
    "link.scheme": N_("Only http and https links are accepted; paste a link starting with https://."),
    "link.no_host": N_("That link has no website in it; paste a full link starting with https://."),
    "link.credentials": N_("Links with a user name or password are not accepted; remove them and try again."),
    # feeds and news; `detail` is the fetcher's or the parser's error, written by its own code below
    "feeds.none_to_refresh": N_("This server has no feeds to refresh. Add one with /feeds add."),
    "feed.unsafe_address": N_("That feed address was {detail}. Use a public http(s) feed link."),
    "feed.unreadable": N_("Could not add that feed: {detail}."),
    "feed.not_found": N_("This server has no such feed. Pick one from the list, or see /feeds list."),
    "filter.include_too_long": N_("The words to include are longer than {limit} characters; keep the ones that matter."),
    "filter.exclude_too_long": N_("The words to exclude are longer than {limit} characters; keep the ones that matter."),
    # `n` is always above the limit, so one form reads right in English too.
    "filter.include_too_many": N_("A filter takes at most {limit} words or phrases to include; you gave {n}."),
    "filter.exclude_too_many": N_("A filter takes at most {limit} words or phrases to exclude; you gave {n}."),
    "filter.phrase_too_long": N_("'{phrase}' is too long for a filter; keep each word or phrase to {limit} characters."),
    "filter.no_letters": N_("'{phrase}' has no letters or digits to look for; separate words with commas."),
    "feeds.star_search_off": N_("Star search feeds are turned off (STAR_SEARCH_FEEDS is empty). "
                                "Add feeds with /feeds add."),
    # polls
    "pairing.same_star": N_("A star cannot be paired with herself; pick two different stars."),
    "pairing.not_two_stars": N_("Pairing {number} ('{text}') is not two stars: write it like "
                                "`Song Hye-kyo x Han So-hee`, and separate pairings with `;`."),
    "pairings.none": N_("Give at least two pairings separated by `;`, e.g. "
                        "`Song Hye-kyo x Han So-hee; Song Hye-kyo x Kim Go-eun`."),
    "pairings.too_few": N_("A poll needs at least {minimum} different pairings; you gave {n}."),
    "pairings.too_many": N_("A poll can have at most {limit} options; you gave {n}."),
    "pairings.repeated": N_("Option {number} repeats an earlier pairing; each pairing can appear once."),
    "duration.invalid": N_("'{text}' is not a duration fanbot understands; write it like 30m, 6h or 3d."),
    "duration.out_of_range": N_("A poll runs from 1 minute (1m) to 32 days (32d); pick a duration in that range."),
    "question.empty": N_("The question cannot be empty; ask something like 'Who should star with Song Hye-kyo?'."),
    "question.too_long": N_("The question is {length} characters; keep it to {limit}."),
    "project.too_long": N_("The project idea is {length} characters; keep it to {limit}."),
    "max_choices.too_few": N_("max_choices must be at least 1."),
    "max_choices.too_many": N_("max_choices ({chosen}) is more than the {options} options; "
                               "pick {options} or fewer."),
    "poll.options_twice": N_("Give either `pairings` or `from_top_proposals`, not both."),
    "poll.top_out_of_range": N_("from_top_proposals must be from 2 to {limit}."),
    "poll.too_few_proposals": Nn_("Only {n} pairing has been proposed; fans can add more with /collab propose, "
                                  "or list pairings yourself.",
                                  "Only {n} pairings have been proposed; fans can add more with /collab propose, "
                                  "or list pairings yourself."),
    "poll.no_options": N_("Give the options: `pairings` (like `Song Hye-kyo x Han So-hee; ...`) "
                          "or `from_top_proposals` (how many of the most proposed pairings)."),
    "poll.unknown": N_("Unknown poll: it does not exist in this server (or was removed). Pick one from the list."),
    "poll.already_closed": N_("That poll is already closed; see its results with /poll results."),
    "poll.results_hidden": N_("This poll hides its results until it closes; check back after it closes."),
    "proposal.repeated": N_("You already proposed this pairing; each fan can propose a pairing once."),
    # media
    "title.empty": N_("The title is empty; give it a short title."),
    "title.too_long": N_("The title is too long ({length} characters); keep it to {limit}."),
    "credit.empty": N_("The credit is empty; give it a short credit."),
    "credit.too_long": N_("The credit is too long ({length} characters); keep it to {limit}."),
    "tag.too_long": N_("The tag '{tag}' is too long; keep tags to {limit} characters."),
    "tag.bad_characters": N_("Tags may use letters, digits, spaces, - and _ only; separate them with commas."),
    "tags.too_many": N_("Too many tags ({n}); at most {limit}."),
    "media.link_in_library": N_("That link is already in the library. Use /media search to find it."),
    "media.file_in_library": N_("That file is already in the library. Use /media search to find it."),
    "media.link_in_queue": N_("That link is already waiting in the moderators' queue."),
    "media.file_in_queue": N_("That file is already waiting in the moderators' queue."),
    "media.already_removed": N_("That item was already removed."),
    "media.not_found": N_("There is no such item in this server's library (it may have been removed). "
                          "Use /media search to find one."),
    "media.library_empty": N_("The library is empty. Moderators add items with /media add; fans use /media submit."),
    "media.no_match": N_("Nothing in the library matches that; try another star or tag, or none."),
    "media.empty_query": N_("Type something to search for: a title, a tag or a star's name."),
    "media.link_or_file": N_("Give either a link (url) or a file (file), not both and not neither."),
    "media.file_too_large": N_("That file is {size} MB; the limit is {limit} MB. Share a link to it instead."),
    "media.wrong_type": N_("Only pictures (JPEG, PNG, GIF, WebP) and videos (MP4, MOV, WebM) can be kept."),
    "media.download_failed": N_("fanbot could not download that file ({detail}); try again or share a link."),
    "media.not_media": N_("That file is not a picture (JPEG, PNG, GIF, WebP) or video (MP4, MOV, WebM) whatever its "
                          "name says; attach a real one or share a link."),
    "media.file_missing": N_("The stored file of #{id} is missing from fanbot's media folder; a moderator can "
                             "remove the item and add the file again."),
    "media.submissions_closed": N_("Submissions are closed here until a moderator sets a mod-log channel "
                                   "(/config channel)."),
    "media.modlog_unreachable": N_("The moderators' channel is not reachable right now, so nothing was submitted; "
                                   "try again later."),
    "submission.gone": N_("That submission no longer exists; nothing to do."),
    "submission.already_approved": N_("That submission was already approved; nothing changed."),
    "submission.already_rejected": N_("That submission was already rejected; nothing changed."),
    "submission.already_approved_by": N_("That submission was already approved by {moderator}; nothing changed."),
    "submission.already_rejected_by": N_("That submission was already rejected by {moderator}; nothing changed."),
    # config
    "config.unknown_kind": N_("Unknown kind '{kind}'; use one of: {kinds}."),
    "config.bad_timezone": N_("'{name}' is not a time zone fanbot knows; use an IANA name such as Asia/Seoul or "
                              "Europe/Paris."),
    "config.bad_media_hour": N_("The media hour must be a whole hour from 0 to 23 (server time zone)."),
    "config.bad_language": N_("'{value}' is not a language setting; choose auto, en or ko."),
    "config.route_not_news": N_("Only news can go to a star's own channel; leave out star for {kind}."),
    "config.not_routed": N_("{star}'s news is not routed to a channel of its own; it already goes to the news "
                            "channel."),
    # notify
    "notify.needs_manage_roles": N_("fanbot needs the Manage Roles permission to create the ping role for {star}; "
                                    "ask a moderator to give fanbot Manage Roles, then try again."),
    "notify.role_too_high": N_("fanbot cannot hand out {role}: it sits above fanbot's own role. "
                               "Ask a moderator to move fanbot's role above it, then try again."),
    "notify.not_subscribed": N_("You do not get pings for {star}, so there is nothing to stop."),
    # Why an address was refused, a fetch failed or a document is not a feed (bot/net, bot/domain/feeds.py).
    # The English is the error's own message, word for word: logs and stored errors say the same.
    "address.bad_bracketed_ip": N_("refused: the address is not a valid IPv6 address"),
    "address.bad_ip": N_("refused: the host looks like an IP address but is not a valid one"),
    "address.too_long": N_("refused: the address is longer than {limit} characters"),
    "address.invalid": N_("refused: the address is not a valid URL"),
    "address.relative": N_("refused: only http and https links can be fetched, not a relative path"),
    "address.scheme": N_("refused: only http and https links can be fetched, not {scheme}:"),
    "address.credentials": N_("refused: links with a user name or password are not allowed"),
    "address.no_host": N_("refused: the address has no host"),
    "address.bad_host": N_("refused: the host name contains characters a host name cannot have"),
    "address.blocked": N_("refused: {ip} is {reason}"),
    "address.blocked_wrapped": N_("refused: {ip} is an IPv6 form of {embedded}, {reason}"),
    "address.localhost": N_("refused: {host} is this machine (loopback)"),
    "address.resolves_blocked": N_("refused: {host} resolves to {ip}, {reason}"),
    "address.resolves_blocked_wrapped": N_("refused: {host} resolves to {ip}, an IPv6 form of {embedded}, {reason}"),
    "address.resolves_nothing": N_("refused: {host} resolves to nothing usable, not a public address"),
    "address.bad_redirect": N_("refused: the server redirected to an invalid address"),
    "fetch.connect_timeout": N_("timed out: could not connect within {seconds} s"),
    "fetch.read_timeout": N_("timed out: the server sent nothing for {seconds} s"),
    "fetch.total_timeout": N_("timed out: the download took longer than {seconds} s"),
    "fetch.too_many_redirects": N_("too many redirects (more than {limit})"),
    "fetch.status": N_("the server answered {status}"),
    "fetch.redirect_nowhere": N_("the server answered {status} without saying where to"),
    "fetch.dns": N_("could not find the server {host} (DNS lookup failed)"),
    "fetch.tls": N_("refused: {host} presented an invalid TLS certificate"),
    "fetch.connect": N_("could not connect to {host}"),
    "fetch.broken_response": N_("the server sent a broken or badly compressed response"),
    "fetch.failed": N_("the request to {host} failed ({error})"),
    "fetch.too_large": N_("too large: over {limit}"),
    "feed.entities": N_("the feed declares XML entities, which fanbot refuses"),
    "feed.empty": N_("the feed is empty"),
    "feed.web_page": N_("this is a web page, not an RSS or Atom feed; look for the site's feed link"),
    "feed.not_a_feed": N_("this is not an RSS or Atom feed"),
    "feed.process_failed": N_("fanbot could not process this feed (see the bot's log)"),
    "feed.record_failed": N_("fanbot could not record this feed's items"),
}

# The `reason` of the address.* codes: bot.net.addresses.REASONS, whose English these repeat word for word.
ADDRESS_REASONS = {
    "loopback": N_("a loopback address"),
    "link_local": N_("a link-local address"),
    "multicast": N_("a multicast address"),
    "unspecified": N_("an unspecified address"),
    "shared": N_("a shared (carrier-grade NAT) address"),
    "reserved": N_("a reserved address"),
    "private": N_("a private address"),
    "site_local": N_("a site-local address"),
    "not_public": N_("not a public address"),
}

# What a Discord option holds, for "'x' is not a valid ... here".
OPTION_TYPES = {
    "string": N_("text"), "integer": N_("whole number"), "number": N_("number"), "boolean": N_("yes or no"),
    "user": N_("member"), "channel": N_("channel"), "role": N_("role"), "mentionable": N_("member or role"),
    "attachment": N_("file"),
}


def field_text(lang: Lang, value: Any) -> str:
    """Data from an error made readable and inert: stars by this language's name, dates as it writes them,
    a fetch or feed error in this language's words."""
    if isinstance(value, DiagnosedError):
        return error_text(lang, value.code, value.data) if value.code else truncate(neutralise(str(value)), 200)
    if isinstance(value, RoleMention):
        return f"<@&{value.role_id}>"
    if isinstance(value, UserMention):
        return f"<@{value.user_id}>"
    if isinstance(value, ChannelMention):
        return f"<#{value.channel_id}>"
    if hasattr(value, "hangul") and hasattr(value, "name"):
        return neutralise(lang.star(value))
    if isinstance(value, date):
        return lang.date(value)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return truncate(neutralise(str(value)), 200)
    return str(value)


def error_text(lang: Lang, code: str, data: dict[str, Any] | None = None) -> str:
    template = ERROR_TEXT.get(code)
    if template is None:
        # Not a code: a sentence raised by code that predates the catalogues. Shown as it was written.
        return code
    data = data or {}
    if code.startswith("address.") and data.get("reason") in ADDRESS_REASONS:
        data = {**data, "reason": lang._(ADDRESS_REASONS[data["reason"]])}
    if isinstance(template, tuple):  # a count: the error's `n` picks the form
        fields = {k: field_text(lang, v) for k, v in data.items() if k != "n"}
        return lang.n_(template[0], template[1], int(data["n"]), **fields)
    return lang._(template, **{k: field_text(lang, v) for k, v in data.items()})
