"""python3 -m seqgrad_torch throughput|converge ...: the benchmark modes (bench.py)."""
from .bench import main

main()
