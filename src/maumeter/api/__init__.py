"""The HTTP face: decode, call `Meter`, encode. No SQL, no business rules."""
