"""Sparse neighbour graphs: the "points within radius u" relation."""

from ._graph import NeighborGraph, radius_neighbor_graph

__all__ = ["NeighborGraph", "radius_neighbor_graph"]
