"""solution.xdmf: the run's grid and fields for ParaView (``paraview solution.xdmf``) and other XDMF readers.

XDMF 3 is an XML file describing a mesh and its fields, whose numbers live in HDF5. This one describes
the evaluation grid as an unstructured mesh of its points (line segments for one space dimension,
quadrilaterals for two, hexahedra for three) and, where the problem has a time input, a temporal
collection with one step per time of the grid. Its fields, per output (and derived quantity):
``<name>_predicted``, ``<name>_reference`` and ``<name>_error`` (where the run has a reference),
``inside`` (1 where the point is inside the domain), and for viewing ``velocity_*`` and
``displacement_*`` vectors and ``speed_*`` (:mod:`pinn.output.views`).

Why not a rectilinear grid pointing into solution.h5 itself: solution.h5 keeps its arrays in the
inputs' order (``indexing="ij"``: the first input varies slowest), while XDMF's rectilinear
grids (``2DRectMesh``...) need the first coordinate to vary fastest, and XDMF cannot transpose; a
time step of solution.h5 is a strided slice, which common readers (meshio) cannot read. So the numbers
are written once more, beside it in ``solution.xdmf.h5``, as XDMF readers want them: per time step one
array per field, its points in the order of ``/mesh/points``. Those points are the grid's space
points in ij order: point ``k`` is ``np.unravel_index(k, space_shape)``.
"""
from __future__ import annotations

import logging
from pathlib import Path
from xml.sax.saxutils import quoteattr

import numpy as np

from pinn.output import files, views
from pinn.references.grid import GridReference

logger = logging.getLogger(__name__)

KINDS = ("predicted", "reference", "error")
CELLS = {1: ("Polyline", "XY"), 2: ("Quadrilateral", "XY"), 3: ("Hexahedron", "XYZ")}
"""Per number of space dimensions: the XDMF cell type and geometry type."""
COMPRESS_FROM = 4096
"""Values per array from which it is compressed: below, gzip's chunk index costs more than it saves."""


def write_xdmf(path: Path, data_path: Path, grid: GridReference, predicted: dict[str, np.ndarray],
               time: str | None) -> bool:
    """Write ``path`` (solution.xdmf) and the arrays it points to in ``data_path`` (solution.xdmf.h5), both
    atomically, the data first; False (nothing written) for a grid of more than three space dimensions."""
    space = [name for name in grid.axes if name != time] or [time]  # a problem of time alone: a line in time
    time = time if time in grid.axes and space != [time] else None
    if len(space) > 3:
        logger.info("no solution.xdmf: its grid has %d space dimensions (XDMF draws at most 3)", len(space))
        return False
    order = ([time] if time else []) + space
    permutation = [list(grid.axes).index(name) for name in order]
    fields = {name: np.transpose(array, permutation + list(range(len(permutation), array.ndim)))
              for name, array in _fields(grid, predicted).items()}
    space_axes = [grid.axes[name] for name in space]
    space_shape = tuple(len(a) for a in space_axes)
    times = grid.axes[time] if time else [None]
    points, cells = mesh_points(space_axes), mesh_cells(space_shape)

    def fill(handle) -> None:
        handle.attrs["space"] = " ".join(space)
        handle.create_dataset("mesh/points", data=points)
        handle.create_dataset("mesh/cells", data=cells)
        for step in range(len(times)):
            for name, array in fields.items():
                values = array[step] if time else array
                handle.create_dataset(f"{_step_group(step, time)}/{name}",
                                      data=values.reshape(len(points), *values.shape[len(space_shape):]),
                                      compression="gzip" if values.size >= COMPRESS_FROM else None)

    files.write_hdf5(data_path, fill)
    text = _xml(data_path.name, points, cells, len(space), fields, times, time, space_shape)  # a relative path
    files.atomic_write(path, lambda p: p.write_text(text))
    return True


def mesh_points(axes: list[np.ndarray]) -> np.ndarray:
    """The points of the grid of ``axes`` in ij order, as XDMF coordinates (a 1-D grid gets y = 0)."""
    mesh = np.meshgrid(*axes, indexing="ij")
    columns = [m.ravel() for m in mesh]
    if len(columns) == 1:
        columns.append(np.zeros_like(columns[0]))
    return np.stack(columns, axis=1).astype(np.float64)


def mesh_cells(shape: tuple[int, ...]) -> np.ndarray:
    """The cells of a grid of ``shape`` (points numbered in ij order): segments, quadrilaterals or hexahedra,
    their corners counter-clockwise (VTK's order), as an ``(cells, corners)`` int64 array."""
    index = np.arange(int(np.prod(shape))).reshape(shape)
    if len(shape) == 1:
        corners = [index[:-1], index[1:]]
    elif len(shape) == 2:
        corners = [index[:-1, :-1], index[1:, :-1], index[1:, 1:], index[:-1, 1:]]
    else:
        bottom = [index[:-1, :-1, :-1], index[1:, :-1, :-1], index[1:, 1:, :-1], index[:-1, 1:, :-1]]
        top = [index[:-1, :-1, 1:], index[1:, :-1, 1:], index[1:, 1:, 1:], index[:-1, 1:, 1:]]
        corners = bottom + top
    return np.stack([c.ravel() for c in corners], axis=1).astype(np.int64)


def _fields(grid: GridReference, predicted: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Every array drawn, by its XDMF name, shaped like the grid (a vector with 3 more components)."""
    by_kind: dict[str, dict[str, np.ndarray]] = {kind: {} for kind in KINDS}
    for name, values in predicted.items():
        by_kind["predicted"][name] = np.asarray(values).reshape(grid.shape)
        if name in grid.fields:
            by_kind["reference"][name] = np.asarray(grid.fields[name])
            by_kind["error"][name] = by_kind["predicted"][name] - by_kind["reference"][name]
    arrays = {f"{name}_{kind}": array for kind in KINDS for name, array in by_kind[kind].items()}
    for kind in ("predicted", "reference"):
        arrays.update({f"{name}_{kind}": array for name, array in views.vectors(by_kind[kind]).items()})
        speed = views.speed(by_kind[kind])
        if speed is not None:
            arrays[f"speed_{kind}"] = speed
    for name in [*views.VECTORS, "speed"]:
        if f"{name}_predicted" in arrays and f"{name}_reference" in arrays:
            arrays[f"{name}_error"] = arrays[f"{name}_predicted"] - arrays[f"{name}_reference"]
    arrays["inside"] = np.asarray(grid.inside, dtype=np.uint8)
    return dict(sorted(arrays.items()))


def _step_group(step: int, time: str | None) -> str:
    return f"step_{step:05d}" if time else "fields"


def _xml(data_file: str, points: np.ndarray, cells: np.ndarray, dimensions: int, fields: dict[str, np.ndarray],
         times, time: str | None, space_shape: tuple[int, ...]) -> str:
    cell_type, geometry_type = CELLS[dimensions]
    corners = ' NodesPerElement="2"' if cell_type == "Polyline" else ""
    mesh = (f'<Topology TopologyType="{cell_type}" NumberOfElements="{len(cells)}"{corners}>'
            f'{_item(data_file, "/mesh/cells", cells)}</Topology>\n'
            f'<Geometry GeometryType="{geometry_type}">{_item(data_file, "/mesh/points", points)}</Geometry>\n')
    steps = []
    for step, value in enumerate(times):
        group = _step_group(step, time)
        lines = [mesh if step == 0 else
                 '<xi:include xpointer="xpointer(/Xdmf/Domain/Grid/Grid[1]/*[self::Topology or self::Geometry])"/>\n']
        if time:
            lines.append(f'<Time Value="{float(value)!r}"/>\n')
        for name, array in fields.items():
            shape = (len(points), *array.shape[len(space_shape) + (1 if time else 0):])  # (points, 3) for vectors
            kind = "Vector" if len(shape) == 2 else "Scalar"
            lines.append(f'<Attribute Name={quoteattr(name)} AttributeType="{kind}" Center="Node">'
                         f'{_item(data_file, f"/{group}/{name}", array, shape)}</Attribute>\n')
        name = f"{time} = {float(value):g}" if time else "solution"
        steps.append(f'<Grid Name={quoteattr(name)} GridType="Uniform">\n{"".join(lines)}</Grid>\n')
    body = "".join(steps)
    if time:
        body = f'<Grid Name="solution" GridType="Collection" CollectionType="Temporal">\n{body}</Grid>\n'
    return ('<?xml version="1.0" encoding="utf-8"?>\n'
            '<Xdmf Version="3.0" xmlns:xi="http://www.w3.org/2001/XInclude">\n'
            f'<Domain>\n{body}</Domain>\n</Xdmf>\n')


_TYPES = {"f": "Float", "i": "Int", "u": "UInt"}


def _item(data_file: str, where: str, array: np.ndarray, shape: tuple[int, ...] | None = None) -> str:
    """A DataItem pointing at ``where`` in ``data_file``, of ``array``'s type and ``shape`` (default its own)."""
    dims = " ".join(str(n) for n in (array.shape if shape is None else shape))
    return (f'<DataItem DataType="{_TYPES[array.dtype.kind]}" Precision="{array.dtype.itemsize}" '
            f'Dimensions="{dims}" Format="HDF">{data_file}:{where}</DataItem>')
