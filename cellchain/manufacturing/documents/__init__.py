"""What a lot looks like on paper and on screen: the printable batch record, the growth curve."""
