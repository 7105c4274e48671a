"""The checks of the exercises, one module per chapter (chNN.py): CHECKS maps each exercise's
name (its file name without .py) to a function that gets a tour.exercises.Ctx, runs the
learner's code for real, and returns what it observed, or raises NotYet with the hint."""
