"""Stock kept by the lab and the ward beyond single hand-overs: taking expired bags out of use."""
