"""What a run leaves behind: the run folder, its files, progress and the console summary."""
