"""Figures of the chapter \"Batch normalization as a reparametrization\"."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.figure import Figure


def minibatch_figure(data: pd.DataFrame) -> Figure:
    """Relative RMS gap of mini-batch BN vs batch size, log-log, with the ``m^{-1/2}`` guide."""
    fig, ax = plt.subplots()
    sns.lineplot(
        data=data,
        x="batch_size",
        y="relative_rms_error",
        marker="o",
        errorbar=("pi", 100),
        ax=ax,
        label="mini-batch BN (band: 4 directions)",
    )
    m = np.array(sorted(data["batch_size"].unique()), dtype=float)
    first = data[data["batch_size"] == m[0]]["relative_rms_error"].mean()
    ax.plot(m, first * np.sqrt(m[0] / m), "k--", label=r"$\propto m^{-1/2}$")
    ax.set(xscale="log", yscale="log", xlabel="batch size $m$", ylabel=r"relative RMS gap to $x^\top \tilde w$")
    ax.legend()
    return fig
