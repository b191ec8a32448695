"""Run Kovasznay flow, the lid-driven cavity and the Taylor-Green vortex at their defaults and write a JSON table of errors and times.

    python scripts/navier_stokes.py [--problems ...] [--seeds 0 1 2] [--out navier_stokes.json] [--set KEY=VALUE]...

The same as ``scripts/accuracy.py`` for this group of problems (each run a real ``pinn.solve``).
"""
from accuracy import main

if __name__ == "__main__":
    main("navier_stokes")
