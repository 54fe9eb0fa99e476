"""Cryostorage and cold storage: units, their racks or shelves, boxes of positions, what each position holds,
and the temperature readings of each unit (docs/rules.md, "Storage")."""
