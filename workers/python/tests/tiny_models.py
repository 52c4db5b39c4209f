"""Tiny randomly initialised pipelines, built from in-code configs and saved with
`save_pretrained`, so tests load them back through the real `from_pretrained(local_dir)` path.

Nothing is downloaded: tokenizers are built from in-memory vocabularies (transformers 5 accepts
`vocab=`), every model from a config written here, with fixed seeds (the saved weights are the
same run to run). Adapted from the project's reference scripts (shared/reference).
"""

from __future__ import annotations

import os
import string
from pathlib import Path

import torch


def t5_tokenizer():
    from transformers import T5Tokenizer

    words = "a an the of and in on with to dance monkey cat dog robot red blue camera walks runs".split()
    chars = string.ascii_letters + string.digits + string.punctuation
    vocab = [("<pad>", 0.0), ("</s>", 0.0), ("<unk>", 0.0), ("\u2581", -2.0)]
    vocab += [("\u2581" + w, -4.0) for w in words]
    vocab += [("\u2581" + c, -8.0) for c in chars] + [(c, -9.0) for c in chars]
    return T5Tokenizer(vocab=vocab, extra_ids=0)


TINY_T5 = dict(d_model=32, d_kv=8, d_ff=37, num_layers=2, num_heads=4, relative_attention_num_buckets=8,
               dropout_rate=0.0, feed_forward_proj="gated-gelu")


def umt5_encoder(vocab_size: int):
    from transformers import UMT5Config, UMT5EncoderModel

    return UMT5EncoderModel(UMT5Config(vocab_size=vocab_size, **TINY_T5)).eval()


def wan_vae():
    from diffusers import AutoencoderKLWan

    return AutoencoderKLWan(base_dim=3, z_dim=16, dim_mult=[1, 1, 1, 1], num_res_blocks=1,
                            temperal_downsample=[False, True, True])


WAN_DIT = dict(patch_size=(1, 2, 2), num_attention_heads=2, attention_head_dim=12, out_channels=16,
               text_dim=32, freq_dim=256, ffn_dim=32, num_layers=2, cross_attn_norm=True,
               qk_norm="rms_norm_across_heads", rope_max_seq_len=1024)  # real Wan: 1024 (the e2e test renders 1280x720)


def wan_t2v():
    from diffusers import FlowMatchEulerDiscreteScheduler, WanPipeline, WanTransformer3DModel

    tok = t5_tokenizer()
    torch.manual_seed(0)
    return WanPipeline(tokenizer=tok, text_encoder=umt5_encoder(len(tok)), vae=wan_vae(),
                       transformer=WanTransformer3DModel(in_channels=16, **WAN_DIT),
                       scheduler=FlowMatchEulerDiscreteScheduler(shift=7.0))


def wan22_i2v():
    """Wan 2.2 A14B layout: no CLIP image encoder, two experts switched at boundary_ratio."""
    from diffusers import UniPCMultistepScheduler, WanImageToVideoPipeline, WanTransformer3DModel

    tok = t5_tokenizer()
    torch.manual_seed(0)
    return WanImageToVideoPipeline(
        tokenizer=tok, text_encoder=umt5_encoder(len(tok)), vae=wan_vae(),
        transformer=WanTransformer3DModel(in_channels=36, **WAN_DIT),
        transformer_2=WanTransformer3DModel(in_channels=36, **WAN_DIT),
        scheduler=UniPCMultistepScheduler(prediction_type="flow_prediction", use_flow_sigmas=True, flow_shift=3.0),
        image_encoder=None, image_processor=None, boundary_ratio=0.875)


def wan_vace():
    from diffusers import FlowMatchEulerDiscreteScheduler, WanVACEPipeline, WanVACETransformer3DModel

    tok = t5_tokenizer()
    torch.manual_seed(0)
    dit = dict(WAN_DIT, num_layers=3)
    return WanVACEPipeline(
        tokenizer=tok, text_encoder=umt5_encoder(len(tok)), vae=wan_vae(),
        transformer=WanVACETransformer3DModel(in_channels=16, vace_layers=[0, 2], vace_in_channels=96, **dit),
        scheduler=FlowMatchEulerDiscreteScheduler(shift=7.0))


def gemma_tokenizer():
    from transformers import GemmaTokenizer

    specials = ["<pad>", "<eos>", "<bos>", "<unk>", "<mask>"]
    pieces = ["\u2581"] + list(string.ascii_letters + string.digits + string.punctuation)
    return GemmaTokenizer(vocab={t: i for i, t in enumerate(specials + pieces)}, merges=[])


def ltx2():
    """LTX-2: joint video + audio, Gemma-3 text encoder, all tiny."""
    from diffusers import (AutoencoderKLLTX2Audio, AutoencoderKLLTX2Video, FlowMatchEulerDiscreteScheduler,
                           LTX2Pipeline, LTX2VideoTransformer3DModel)
    from diffusers.pipelines.ltx2.connectors import LTX2TextConnectors
    from diffusers.pipelines.ltx2.vocoder import LTX2Vocoder
    from transformers import Gemma3Config, Gemma3ForConditionalGeneration, Gemma3TextConfig, SiglipVisionConfig

    tok = gemma_tokenizer()
    torch.manual_seed(0)
    text = Gemma3TextConfig(vocab_size=len(tok), hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                            num_attention_heads=2, num_key_value_heads=1, head_dim=16, max_position_embeddings=256,
                            sliding_window=64, layer_types=["sliding_attention", "full_attention"])
    vision = SiglipVisionConfig(hidden_size=16, intermediate_size=32, num_hidden_layers=1, num_attention_heads=2,
                                image_size=16, patch_size=4)
    te = Gemma3ForConditionalGeneration(Gemma3Config(text_config=text, vision_config=vision,
                                                     mm_tokens_per_image=4)).eval()
    hidden, layers = text.hidden_size, text.num_hidden_layers
    transformer = LTX2VideoTransformer3DModel(
        in_channels=4, out_channels=4, patch_size=1, patch_size_t=1, num_attention_heads=2, attention_head_dim=8,
        cross_attention_dim=16, audio_in_channels=4, audio_out_channels=4, audio_num_attention_heads=2,
        audio_attention_head_dim=4, audio_cross_attention_dim=8, num_layers=2, qk_norm="rms_norm_across_heads",
        caption_channels=hidden, rope_double_precision=False, rope_type="split")
    connectors = LTX2TextConnectors(
        caption_channels=hidden, text_proj_in_factor=layers + 1, video_connector_num_attention_heads=4,
        video_connector_attention_head_dim=8, video_connector_num_layers=1, video_connector_num_learnable_registers=None,
        audio_connector_num_attention_heads=4, audio_connector_attention_head_dim=8, audio_connector_num_layers=1,
        audio_connector_num_learnable_registers=None, connector_rope_base_seq_len=32, rope_theta=10000.0,
        rope_double_precision=False, causal_temporal_positioning=False, rope_type="split")
    vae = AutoencoderKLLTX2Video(
        in_channels=3, out_channels=3, latent_channels=4, block_out_channels=(8,), decoder_block_out_channels=(8,),
        layers_per_block=(1,), decoder_layers_per_block=(1, 1), spatio_temporal_scaling=(True,),
        decoder_spatio_temporal_scaling=(True,), decoder_inject_noise=(False, False), downsample_type=("spatial",),
        upsample_residual=(False,), upsample_factor=(1,), timestep_conditioning=False, patch_size=1, patch_size_t=1,
        encoder_causal=True, decoder_causal=False)
    vae.use_framewise_encoding = False
    vae.use_framewise_decoding = False
    audio_vae = AutoencoderKLLTX2Audio(
        base_channels=4, output_channels=2, ch_mult=(1,), num_res_blocks=1, attn_resolutions=None, in_channels=2,
        resolution=32, latent_channels=2, norm_type="pixel", causality_axis="height", dropout=0.0,
        mid_block_add_attention=False, sample_rate=16000, mel_hop_length=160, is_causal=True, mel_bins=8)
    vocoder = LTX2Vocoder(
        in_channels=audio_vae.config.output_channels * audio_vae.config.mel_bins, hidden_channels=32, out_channels=2,
        upsample_kernel_sizes=[4, 4], upsample_factors=[2, 2], resnet_kernel_sizes=[3], resnet_dilations=[[1, 3, 5]],
        leaky_relu_negative_slope=0.1, output_sampling_rate=16000)
    return LTX2Pipeline(scheduler=FlowMatchEulerDiscreteScheduler(), vae=vae, audio_vae=audio_vae, text_encoder=te,
                        tokenizer=tok, connectors=connectors, transformer=transformer, vocoder=vocoder)


BUILDERS = {"wan_t2v": wan_t2v, "wan22_i2v": wan22_i2v, "wan_vace": wan_vace, "ltx2": ltx2}


def build(root: str | os.PathLike, names=tuple(BUILDERS)) -> dict[str, Path]:
    """Save each tiny pipeline under root/<name>; returns name -> directory. Idempotent."""
    root = Path(root)
    out = {}
    for name in names:
        d = root / name
        if not (d / "model_index.json").is_file():
            BUILDERS[name]().save_pretrained(str(d))
        out[name] = d
    return out


if __name__ == "__main__":
    import sys

    for k, v in build(sys.argv[1]).items():
        print(k, v)
