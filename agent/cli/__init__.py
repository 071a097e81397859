"""The command line and what it writes: commands, doctor, outputs, the HTML report, signals."""
