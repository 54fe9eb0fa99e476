"""What a site's labels say beyond the data: the fonts, the languages, the statements and the status."""
