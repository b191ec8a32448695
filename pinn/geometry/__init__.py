"""Domains and point sampling: intervals, rectangles, boxes, disks, polygons, their unions
and differences, and their products with a time interval.

Every domain samples its interior and its boundary (with outward unit normals) uniformly,
by Latin hypercube, Sobol or Halton; randomness always comes from an explicit
``numpy.random.Generator``::

    rng = np.random.default_rng(0)
    plate = Rectangle((0, 0), (1, 1)) - Disk((0.5, 0.5), 0.2)
    x = plate.sample_interior(1000, "sobol", rng)
    xb, normals = plate.sample_boundary(200, "sobol", rng)
"""
from .base import Geometry
from .boundary import Boundary
from .box import Box, Interval, Rectangle
from .csg import Difference, Union
from .disk import Disk
from .polygon import Polygon
from .sampling import SAMPLING_METHODS, unit_samples
from .spacetime import SpaceTime
from .time_interval import TimeInterval

__all__ = [
    "Geometry",
    "Boundary",
    "Interval",
    "Rectangle",
    "Box",
    "Disk",
    "Polygon",
    "Union",
    "Difference",
    "TimeInterval",
    "SpaceTime",
    "unit_samples",
    "SAMPLING_METHODS",
]
