"""Sparse neighbour graphs: points within radius u, or k nearest neighbours."""

from ._graph import NeighborGraph, knn_neighbor_graph, radius_neighbor_graph

__all__ = ["NeighborGraph", "knn_neighbor_graph", "radius_neighbor_graph"]
