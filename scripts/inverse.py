"""Run the inverse problems (heat diffusivity, Kovasznay viscosity, plate Lamé constants) over
seeds and write a JSON table of the recovered parameters: each run's value, their mean and spread
over the seeds (network initialisation and observation noise vary together), relative errors,
field errors and times.

    python scripts/inverse.py [--problems ...] [--seeds 0 1 2 3 4] [--out inverse.json] [--set KEY=VALUE]...

The same as ``scripts/accuracy.py`` for this group of problems (each run a real ``pinn.solve``).
"""
from accuracy import main

if __name__ == "__main__":
    main("inverse")
