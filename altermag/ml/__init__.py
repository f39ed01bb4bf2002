"""The learned stage of altermag: a crystal GNN prior and optimal-transport adaptation.

* :mod:`altermag.ml.graphs` — crystal graphs (12 nearest periodic neighbours, Gaussian
  distance expansion) batched for torch-geometric;
* :mod:`altermag.ml.model` — CGCNN-style encoder, classifier head, auto-encoder decoders;
* :mod:`altermag.ml.pretrain` / :mod:`altermag.ml.finetune` — NWR-GAE pre-training with
  OT-matched neighbour sets, class-balanced fine-tuning;
* :mod:`altermag.ml.adapt` — minibatch entropic OT (POT) from the screened domain to the
  labeled one;
* :mod:`altermag.ml.checkpoint` — checkpoint I/O, model card, :class:`Scorer`.

The GNN probability is a ranking prior; the exact spin-group engine gives the verdict.
Requires the ``ml`` extra (torch, torch-geometric, POT).
"""

from __future__ import annotations
