"""Persistence behind one narrow interface, and the vectorized helpers stores share."""
