"""fanbot's languages: gettext catalogues per locale and how a reader's or a server's language is chosen."""

from .catalogues import DOMAIN, LOCALES_DIR, N_, SUPPORTED, Catalogues, Lang, Nn_, display_width, pad

__all__ = ["DOMAIN", "LOCALES_DIR", "SUPPORTED", "Catalogues", "Lang", "N_", "Nn_", "display_width", "pad"]
