"""The site's languages: which one a reader gets, and the catalogues of their words (cellchain/translations)."""
