"""Figures as PNG files, drawn with matplotlib's headless Agg backend (no display needed).

``sigdae.plots.charts`` has the generic figures the experiments use (heatmaps, curves, ROC curves,
histograms, scatter plots, image grids); ``sigdae.plots.runs`` draws a training run's curves and its
preview's spectrograms. matplotlib is imported only when a figure is drawn, so importing sigdae stays fast.
"""
