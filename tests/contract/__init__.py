"""Contract test: replays the recorded Group-Office wire corpus against the emulator.

See README.md in this folder for the normalisation rules and the seeding decisions.
"""
