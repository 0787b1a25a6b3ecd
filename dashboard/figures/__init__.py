"""Pure figure builders: data frames in, Plotly figures out (no I/O, no callbacks)."""
