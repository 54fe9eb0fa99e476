"""Label printers: the site's registry of printers, print jobs sent straight to them, and the closed loop
that accounts for every printed label by a scan on its container (docs/architecture.md, "Label printers")."""
