"""FER2013 and FER+ reading and the classification metrics, shared by training and evaluation. Imports only core."""
