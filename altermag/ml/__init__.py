"""The learned stage of altermag: the ground-state prior, trained on experimental structures.

* :mod:`altermag.ml.magndata` — labels from MAGNDATA's experimental magnetic structures (k = 0
  or not; which enumerated collinear order is the measured ground state);
* :mod:`altermag.ml.prior` — descriptors, P(k = 0), P(ground state) of each enumerated order,
  P(altermagnetic ground state), :func:`~altermag.ml.prior.predict`;
* :mod:`altermag.ml.train_prior` — fitting and the compound-grouped evaluation against the
  baselines;
* :mod:`altermag.ml.metrics` — ROC-AUC.

The prior only ranks; the exact spin-group engine gives every verdict. numpy and scipy only.
"""

from __future__ import annotations
