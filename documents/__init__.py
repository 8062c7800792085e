"""Signed PDF documents rendered from the projections."""
