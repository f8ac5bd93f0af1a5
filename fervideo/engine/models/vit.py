"""The study's hand-made shallow Vision Transformer for 32x32 grey faces, written from scratch with einops.

Four 16x16 patches, each flattened (256 values) and projected to a 32-dim token by one learnable matrix,
plus learnable position embeddings (and, optionally, a learnable class token). One block, multi-head
attention -> residual -> ReLU -> LayerNorm, is applied twice with the same weights; the flattened
tokens then give the 7 logits. The multi-head attention is assembled from single-head modules, as in
the study: 4 heads of 8 dims each over the 32-dim tokens, concatenated and projected back to 32.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from einops import einsum, rearrange, repeat
from torch import nn

from fervideo.core.errors import ModelError
from fervideo.engine.models.registry import register
from fervideo.engine.preprocess import PreprocessSpec


@dataclass
class ViTConfig:
    in_channels: int = 1
    num_classes: int = 7
    image_size: int = 32
    patch_size: int = 16  # four patches at 32x32
    dim: int = 32  # token width
    heads: int = 4  # each head attends in dim / heads = 8 dims
    depth: int = 2  # how many times the one shared block is applied
    class_token: bool = False  # the study's optional learnable class token, classified with the patch tokens


def attention(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Scaled dot-product attention with softmax over the keys; returns the output and the weights."""
    scores = einsum(q, k, "... i d, ... j d -> ... i j") * q.shape[-1] ** -0.5  # (..., T, T)
    attn = scores.softmax(dim=-1)
    return einsum(attn, v, "... i j, ... j d -> ... i d"), attn  # (..., T, d), (..., T, T)


class AttentionHead(nn.Module):
    """One attention head: its own query, key and value projections of the tokens."""

    def __init__(self, dim: int, head_dim: int) -> None:
        super().__init__()
        self.to_q = nn.Linear(dim, head_dim)
        self.to_k = nn.Linear(dim, head_dim)
        self.to_v = nn.Linear(dim, head_dim)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return attention(self.to_q(x), self.to_k(x), self.to_v(x))  # x: (B, T, D) -> (B, T, d), (B, T, T)


class MultiHeadAttention(nn.Module):
    """Single heads side by side, concatenated and projected back to the token width."""

    def __init__(self, dim: int, heads: int) -> None:
        super().__init__()
        self.heads = nn.ModuleList(AttentionHead(dim, dim // heads) for _ in range(heads))
        self.proj = nn.Linear(dim, dim)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        outs, attns = zip(*(head(x) for head in self.heads), strict=True)
        x = rearrange(list(outs), "h b t d -> b t (h d)")  # (B, T, D)
        return self.proj(x), rearrange(list(attns), "h b i j -> b h i j")  # (B, T, D), (B, H, T, T)


class Block(nn.Module):
    """Multi-head attention, residual, ReLU, LayerNorm: the study's order, not the pre-norm of ViT-B."""

    def __init__(self, dim: int, heads: int) -> None:
        super().__init__()
        self.attn = MultiHeadAttention(dim, heads)
        self.act = nn.ReLU()
        self.norm = nn.LayerNorm(dim)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        out, attn = self.attn(x)  # (B, T, D), (B, H, T, T)
        return self.norm(self.act(x + out)), attn


class ShallowViT(nn.Module):
    """Patch embedding, position embeddings, one shared block applied `depth` times, linear head."""

    def __init__(self, config: ViTConfig) -> None:
        super().__init__()
        if config.image_size % config.patch_size:
            raise ModelError(f"vit: image_size {config.image_size} is not a multiple of patch_size {config.patch_size}")
        if config.dim % config.heads:
            raise ModelError(f"vit: dim {config.dim} does not split into {config.heads} heads; pick a divisor")
        self.config = config
        patch_dim = config.in_channels * config.patch_size**2
        self.num_patches = (config.image_size // config.patch_size) ** 2
        tokens = self.num_patches + int(config.class_token)
        self.embed = nn.Linear(patch_dim, config.dim, bias=False)  # the study's learnable 256x32 matrix
        self.pos_embedding = nn.Parameter(torch.randn(1, tokens, config.dim) * 0.02)
        self.cls_token = nn.Parameter(torch.randn(1, 1, config.dim) * 0.02) if config.class_token else None
        self.block = Block(config.dim, config.heads)  # one set of weights, applied config.depth times
        self.head = nn.Linear(tokens * config.dim, config.num_classes)

    def tokens(self, x: torch.Tensor) -> tuple[torch.Tensor, list[torch.Tensor]]:
        """Tokens after every block application, and the attention weights of each application."""
        p = self.config.patch_size
        x = rearrange(x, "b c (h p1) (w p2) -> b (h w) (p1 p2 c)", p1=p, p2=p)  # (B, 4, 256)
        x = self.embed(x)  # (B, 4, 32)
        if self.cls_token is not None:
            cls = repeat(self.cls_token, "1 1 d -> b 1 d", b=x.shape[0])
            x = torch.cat([cls, x], dim=1)  # (B, 5, 32), the class token first
        x = x + self.pos_embedding
        attns = []
        for _ in range(self.config.depth):
            x, attn = self.block(x)  # (B, T, 32), (B, 4, T, T)
            attns.append(attn)
        return x, attns

    def attention_maps(self, x: torch.Tensor) -> list[torch.Tensor]:
        """Softmax attention (B, heads, T, T) of each block application, rows summing to 1."""
        return self.tokens(x)[1]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x, _ = self.tokens(x)  # x: (B, 1, 32, 32) -> (B, T, 32)
        return self.head(rearrange(x, "b t d -> b (t d)"))  # (B, 7)


@register(
    "vit",
    preprocess=PreprocessSpec(input_size=32, channels=1, mean=0.5, std=0.5),
    description="the study's hand-made shallow ViT, 32x32 grey, four 16x16 patches",
    weights="vit.pt",
)
def vit(**config: object) -> ShallowViT:
    """The study's shallow Vision Transformer."""
    return ShallowViT(ViTConfig(**config))
