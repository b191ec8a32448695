"""Run the manufactured plate and the cantilever beam at their defaults and write a JSON table of errors and times.

    python scripts/elasticity.py [--problems ...] [--seeds 0 1 2] [--out elasticity.json] [--set KEY=VALUE]...

The same as ``scripts/accuracy.py`` for this group of problems (each run a real ``pinn.solve``).
"""
from accuracy import main

if __name__ == "__main__":
    main("elasticity")
