"""Pure core: standard library only, no I/O, no clock reads; time comes in as a parameter."""
