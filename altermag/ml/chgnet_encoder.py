"""A second pretrained encoder: the frozen CHGNet crystal embedding, and heads on frozen embeddings.

CHGNet (Deng et al., Nat. Mach. Intell. 5, 1031 (2023)) is a crystal-graph interatomic
potential pre-trained on the Materials Project relaxation trajectories (energies, forces,
stresses, magnetic moments). Its atom features after the last convolution (and the layer
norm that precedes the readout) encode each atom's chemistry and local bonding geometry
(bond lengths within 6 Å, bond angles within 3 Å). The pretrained weights ship with the
``chgnet`` wheel and load offline (:func:`load_chgnet`).

:func:`chgnet_embeddings` gives one 64-d vector per crystal: the **mean** of the final atom
features over the atoms of the cell. CHGNet 0.3.0 sums them (its energy readout is
extensive); the mean makes the embedding intensive, so a supercell, a re-ordering of the
sites or a rigid shift of all atoms gives the same vector, which is what a label of the
crystal (can it host an altermagnet?) requires. Moments are ignored (CHGNet predicts them,
it does not read them). CHGNet knows elements up to Pu (Z = 94); other crystals are refused.

:class:`FrozenHead` is the classifier trained on top of any frozen embedding (this one or
the shipped GNN's): standardisation, then logistic regression or a 64→32→1 MLP, with the
same class balance as the GNN's fine-tuning (positives weighted by n_negative / n_positive).

``chgnet`` is optional: this module imports it only when an embedding is asked for.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Any

import numpy as np
import torch

from altermag.structure import MagneticStructure

if TYPE_CHECKING:  # pragma: no cover
    from pymatgen.core import Structure

#: Heaviest element CHGNet has an embedding for (Pu).
CHGNET_MAX_Z = 94
#: Pretrained CHGNet version used for the embedding.
CHGNET_VERSION = "0.3.0"


def chgnet_available() -> bool:
    """Whether the optional ``chgnet`` package can be imported."""
    try:
        import chgnet.model  # noqa: F401
    except ImportError:
        return False
    return True


@lru_cache(maxsize=2)
def load_chgnet(version: str = CHGNET_VERSION) -> Any:
    """The pretrained CHGNet (weights from the wheel, on the CPU, eval mode, frozen)."""
    try:
        from chgnet.model import CHGNet
    except ImportError as exc:  # pragma: no cover - exercised only without the package
        raise ImportError("the CHGNet encoder needs the optional 'chgnet' package") from exc
    model = CHGNet.load(model_name=version, use_device="cpu", verbose=False)
    model.eval()
    for parameter in model.parameters():
        parameter.requires_grad_(False)
    return model


def _pymatgen(structure: MagneticStructure | Structure) -> Structure:
    if isinstance(structure, MagneticStructure):
        return structure.with_moments(None).to_pymatgen()
    return structure


def chgnet_supported(structure: MagneticStructure | Structure) -> bool:
    """True if every element of the crystal is one CHGNet was trained on (Z ≤ 94)."""
    return max(el.Z for el in _pymatgen(structure).composition.elements) <= CHGNET_MAX_Z


@torch.no_grad()
def chgnet_embeddings(
    structures: Sequence[MagneticStructure | Structure],
    model: Any | None = None,
    batch_size: int = 32,
) -> np.ndarray:
    """Frozen CHGNet crystal embeddings, shape (n, 64): mean of the final atom features.

    Parameters
    ----------
    structures
        Crystals (moments, if any, are ignored).
    model
        A loaded CHGNet (default: :func:`load_chgnet`).
    batch_size
        Crystals per forward pass.

    Raises
    ------
    ValueError
        A crystal holds an element beyond Pu, or an atom with no neighbour within CHGNet's
        6 Å graph cutoff.
    """
    model = model if model is not None else load_chgnet()
    pmg = [_pymatgen(s) for s in structures]
    for index, structure in enumerate(pmg):
        if not chgnet_supported(structure):
            raise ValueError(
                f"structure {index} ({structure.composition.reduced_formula}) has an element "
                f"beyond Z = {CHGNET_MAX_Z}, which CHGNet has no embedding for"
            )
    graphs = [model.graph_converter(s) for s in pmg]
    n_atoms = np.array([len(s) for s in pmg], dtype=np.float64)
    # CHGNet sums atom features when the MLP is applied before pooling (v0.3.0); divide by
    # the atom count to get the intensive mean
    extensive = bool(getattr(model, "mlp_first", False))
    out = np.zeros((len(graphs), model.atom_embedding.embedding.embedding_dim), np.float32)
    for start in range(0, len(graphs), batch_size):
        chunk = graphs[start : start + batch_size]
        feas = model(chunk, task="e", return_crystal_feas=True)["crystal_fea"]
        feas = feas.double().numpy()
        if extensive:
            feas = feas / n_atoms[start : start + len(chunk), None]
        out[start : start + len(chunk)] = feas
    return out


@dataclass(frozen=True)
class HeadConfig:
    """A classifier head on frozen embeddings.

    Attributes
    ----------
    kind
        ``"logistic"`` (a linear boundary in the standardised embedding) or ``"mlp"``
        (64→32→1 with SiLU, the shape of the GNN's own head).
    l2
        Weight decay (logistic: L2 penalty per sample on the weights).
    epochs
        Full-batch optimiser steps (LBFGS iterations for logistic, AdamW steps for the MLP).
    lr
        AdamW learning rate of the MLP.
    seed
        Torch seed of the initialisation.
    """

    kind: str = "logistic"
    l2: float = 1e-3
    epochs: int = 300
    lr: float = 1e-2
    seed: int = 0


class FrozenHead:
    """Class-balanced classifier on frozen crystal embeddings (standardised inputs)."""

    def __init__(self, config: HeadConfig | None = None) -> None:
        self.config = config or HeadConfig()
        self.mean: np.ndarray | None = None
        self.scale: np.ndarray | None = None
        self.net: torch.nn.Module | None = None

    def _inputs(self, embeddings: np.ndarray) -> torch.Tensor:
        assert self.mean is not None and self.scale is not None, "fit the head first"
        x = (np.asarray(embeddings, np.float64) - self.mean) / self.scale
        return torch.as_tensor(x, dtype=torch.float32)

    def fit(self, embeddings: np.ndarray, labels: np.ndarray) -> FrozenHead:
        """Train on (n, d) embeddings and 0/1 labels; positives weigh n_neg / n_pos each."""
        cfg = self.config
        emb = np.asarray(embeddings, np.float64)
        y = torch.as_tensor(np.asarray(labels) > 0.5, dtype=torch.float32)
        self.mean = emb.mean(axis=0)
        self.scale = emb.std(axis=0) + 1e-8
        x = self._inputs(emb)
        torch.manual_seed(cfg.seed)
        dim = x.shape[1]
        if cfg.kind == "logistic":
            net: torch.nn.Module = torch.nn.Linear(dim, 1)
        elif cfg.kind == "mlp":
            net = torch.nn.Sequential(
                torch.nn.Linear(dim, 32), torch.nn.SiLU(), torch.nn.Linear(32, 1)
            )
        else:
            raise ValueError(f"unknown head kind {cfg.kind!r}")
        n_pos = float(y.sum())
        pos_weight = torch.tensor((y.numel() - n_pos) / max(n_pos, 1.0))
        loss_fn = torch.nn.BCEWithLogitsLoss(pos_weight=pos_weight)
        weights = [p for name, p in net.named_parameters() if name.endswith("weight")]

        def loss() -> torch.Tensor:
            value = loss_fn(net(x).squeeze(-1), y)
            if cfg.kind == "logistic":
                value = value + cfg.l2 * sum((w**2).sum() for w in weights)
            return value

        if cfg.kind == "logistic":
            opt = torch.optim.LBFGS(
                net.parameters(), max_iter=cfg.epochs, line_search_fn="strong_wolfe"
            )

            def closure() -> torch.Tensor:
                opt.zero_grad()
                value = loss()
                value.backward()
                return value

            opt.step(closure)
        else:
            opt_mlp = torch.optim.AdamW(net.parameters(), lr=cfg.lr, weight_decay=cfg.l2)
            for _ in range(cfg.epochs):
                opt_mlp.zero_grad()
                value = loss()
                value.backward()
                opt_mlp.step()
        net.eval()
        self.net = net
        return self

    @torch.no_grad()
    def predict(self, embeddings: np.ndarray) -> np.ndarray:
        """P(positive) for each embedding."""
        assert self.net is not None, "fit the head first"
        return torch.sigmoid(self.net(self._inputs(embeddings)).squeeze(-1)).numpy()
