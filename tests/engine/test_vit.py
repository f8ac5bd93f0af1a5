"""fervideo.engine.models.vit: the study's hand-made shallow ViT."""

import pytest
import torch
import torch.nn.functional as F

from fervideo.core.errors import ModelError
from fervideo.engine.models import create_model, get_entry
from fervideo.engine.models.vit import AttentionHead, ViTConfig, attention
from fervideo.engine.preprocess import PreprocessSpec


def images(n=3, seed=0):
    return torch.randn(n, 1, 32, 32, generator=torch.Generator().manual_seed(seed))


def test_registered_with_the_study_preprocessing():
    entry = get_entry("vit")
    assert entry.preprocess == PreprocessSpec(input_size=32, channels=1, mean=0.5, std=0.5)
    assert entry.weights == "vit.pt"


@pytest.mark.parametrize("class_token, tokens", [(False, 4), (True, 5)])
def test_shapes(class_token, tokens):
    model = create_model("vit", class_token=class_token).eval()
    x = images()
    assert model(x).shape == (3, 7)
    out, attns = model.tokens(x)
    assert out.shape == (3, tokens, 32)
    assert model.head.in_features == tokens * 32  # classified from all tokens flattened, the class token too
    assert model.embed.weight.shape == (32, 256)  # the study's learnable 256x32 patch projection


def test_patches_are_the_four_16x16_quarters():
    model = create_model("vit").eval()
    x = torch.zeros(1, 1, 32, 32)
    x[..., 16:, :16] = 1.0  # bottom-left quarter: the third patch in row-major order
    with torch.no_grad():
        embedded = model.embed(torch.stack([q.reshape(-1) for q in (x[0, 0, :16, :16], x[0, 0, 16:, :16])]))
        tokens = model.embed(x.reshape(1, 2, 16, 2, 16).permute(0, 1, 3, 2, 4).reshape(1, 4, 256))
    torch.testing.assert_close(tokens[0, 0], embedded[0])
    torch.testing.assert_close(tokens[0, 2], embedded[1])


def test_attention_equals_torch_sdpa():
    gen = torch.Generator().manual_seed(1)
    q, k, v = (torch.randn(2, 3, 5, 8, generator=gen) for _ in range(3))
    out, attn = attention(q, k, v)
    torch.testing.assert_close(out, F.scaled_dot_product_attention(q, k, v))
    torch.testing.assert_close(attn.sum(-1), torch.ones(2, 3, 5))


def test_single_head_equals_torch_sdpa_on_its_projections():
    torch.manual_seed(0)
    head = AttentionHead(dim=32, head_dim=8)
    x = torch.randn(4, 5, 32)
    out, attn = head(x)
    assert out.shape == (4, 5, 8) and attn.shape == (4, 5, 5)
    expected = F.scaled_dot_product_attention(head.to_q(x), head.to_k(x), head.to_v(x))
    torch.testing.assert_close(out, expected)


def test_one_block_shared_by_both_applications():
    model = create_model("vit")
    config = ViTConfig()
    heads = config.heads * 3 * (config.dim * config.dim // config.heads + config.dim // config.heads)
    block = heads + config.dim * config.dim + config.dim + 2 * config.dim  # heads, output projection, LayerNorm
    embed = 256 * config.dim + 4 * config.dim  # patch projection, position embeddings
    head = 4 * config.dim * 7 + 7
    assert sum(p.numel() for p in model.block.parameters()) == block
    assert sum(p.numel() for p in model.parameters()) == embed + block + head  # one block's weights, not two
    assert len(model.attention_maps(images())) == config.depth == 2
    with_token = create_model("vit", class_token=True)
    extra = sum(p.numel() for p in with_token.parameters()) - sum(p.numel() for p in model.parameters())
    assert extra == config.dim + config.dim + 7 * config.dim  # class token, its position, its head inputs


def test_block_applied_twice_explicitly():
    model = create_model("vit").eval()
    x = images(2)
    with torch.no_grad():
        tokens = model.embed(x.reshape(2, 2, 16, 2, 16).permute(0, 1, 3, 2, 4).reshape(2, 4, 256))
        tokens = model.block(model.block(tokens + model.pos_embedding)[0])[0]
        torch.testing.assert_close(model.head(tokens.reshape(2, -1)), model(x))


@pytest.mark.parametrize("class_token, tokens", [(False, 4), (True, 5)])
def test_attention_maps(class_token, tokens):
    model = create_model("vit", class_token=class_token).eval()
    maps = model.attention_maps(images())
    assert len(maps) == 2
    for attn in maps:
        assert attn.shape == (3, 4, tokens, tokens)
        assert (attn >= 0).all()
        torch.testing.assert_close(attn.sum(-1), torch.ones(3, 4, tokens))


def test_bad_config_is_a_model_error():
    with pytest.raises(ModelError, match="multiple of patch_size"):
        create_model("vit", patch_size=12)
    with pytest.raises(ModelError, match="heads"):
        create_model("vit", heads=5)
