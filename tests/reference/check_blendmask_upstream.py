"""Checks blendmask_reference.py against the upstream modules themselves: AdelaiDet's FCOS (FCOSHead and
FCOSOutputs.predict_proposals), ProtoNet and Blender, and detectron2's ROIPooler, Boxes, Instances, batched_nms and
detector_postprocess / paste_masks_in_image, run from their source files on the fixtures' weights and image.

Usage: /usr/bin/python3 check_blendmask_upstream.py ADELAIDET_SRC DETECTRON2_SRC [--shared DIR] [config ...]
(source trees of aim-uofa/AdelaiDet and facebookresearch/detectron2, e.g. `git archive` of commits 36721221 and
02b5c4e2). Neither package can be imported here (no compiled ops, fvcore, pycocotools), so the script loads the
source files it needs one by one and stubs what they import but inference does not use: registries, fx tracing,
distributed helpers, training losses, DFConv2d (not in these configs' heads), pycocotools. detectron2's get_norm is
replaced by BatchNorm2d for "SyncBN", which is what SyncBatchNorm computes at inference. Both sides start from the
reference's FPN levels (the ResNet and FPN are the BCNet fixture's, make_bcnet_model_fixtures.py) and must agree on
the bases, the detections and every pasted mask pixel.
"""
import argparse
import importlib.util
import os
import sys
import types
from types import SimpleNamespace as NS

import numpy as np
import torch
from PIL import Image
from torch import nn

import blendmask_reference as ref
from make_blendmask_fixtures import IMAGE, build, parse_arguments


def package(name):
    module = types.ModuleType(name)
    module.__path__ = []
    sys.modules[name] = module
    return module


def stub(name, **attrs):
    module = types.ModuleType(name)
    module.__dict__.update(attrs)
    sys.modules[name] = module
    return module


def load(name, path):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


class Registry:
    def __init__(self, name):
        self._objects = {}

    def register(self, obj=None):
        def add(o):
            self._objects[o.__name__] = o
            return o
        return add if obj is None else add(obj)

    def get(self, name):
        return self._objects[name]


def get_norm(norm, channels):
    return {"SyncBN": nn.BatchNorm2d, "BN": nn.BatchNorm2d}[norm](channels) if norm else None


def load_upstream(adet, d2):
    """The upstream modules inference needs, in dependency order."""
    d = lambda p: os.path.join(d2, "detectron2", p)  # noqa: E731
    a = lambda p: os.path.join(adet, "adet", p)  # noqa: E731
    for name in ("detectron2", "detectron2.utils", "detectron2.layers", "detectron2.structures", "detectron2.modeling",
                 "detectron2.modeling.proposal_generator", "adet", "adet.layers", "adet.utils", "adet.modeling",
                 "adet.modeling.fcos", "adet.modeling.blendmask", "fvcore", "pycocotools"):
        package(name)
    stub("detectron2.utils.env", TORCH_VERSION=tuple(int(v) for v in torch.__version__.split(".")[:2]))
    stub("detectron2.utils.tracing", assert_fx_safe=lambda condition, message: None, is_fx_tracing=lambda: False)
    stub("detectron2.utils.memory", retry_if_cuda_oom=lambda f: f)
    stub("detectron2.utils.registry", Registry=Registry)
    stub("detectron2.utils.comm", get_world_size=lambda: 1)
    stub("detectron2.modeling.proposal_generator.build", PROPOSAL_GENERATOR_REGISTRY=Registry("PROPOSAL_GENERATOR"))
    stub("fvcore.nn", sigmoid_focal_loss_jit=None)
    stub("pycocotools.mask")
    wrappers = load("detectron2.layers.wrappers", d("layers/wrappers.py"))
    layers = sys.modules["detectron2.layers"]
    layers.__dict__.update(cat=wrappers.cat, nonzero_tuple=wrappers.nonzero_tuple, Conv2d=wrappers.Conv2d,
                           shapes_to_tensor=wrappers.shapes_to_tensor, ROIAlignRotated=None, NaiveSyncBatchNorm=None,
                           get_norm=get_norm)
    layers.ROIAlign = load("detectron2.layers.roi_align", d("layers/roi_align.py")).ROIAlign
    layers.batched_nms = load("detectron2.layers.nms", d("layers/nms.py")).batched_nms
    layers.ShapeSpec = load("detectron2.layers.shape_spec", d("layers/shape_spec.py")).ShapeSpec
    layers.paste_masks_in_image = load("detectron2.layers.mask_ops", d("layers/mask_ops.py")).paste_masks_in_image
    stub("detectron2.layers.batch_norm", get_norm=get_norm)
    structures = sys.modules["detectron2.structures"]
    structures.Boxes = load("detectron2.structures.boxes", d("structures/boxes.py")).Boxes
    structures.Instances = load("detectron2.structures.instances", d("structures/instances.py")).Instances
    structures.ROIMasks = load("detectron2.structures.masks", d("structures/masks.py")).ROIMasks
    poolers = load("detectron2.modeling.poolers", d("modeling/poolers.py"))
    postprocessing = load("detectron2.modeling.postprocessing", d("modeling/postprocessing.py"))
    adet_layers = sys.modules["adet.layers"]
    stub("adet.layers.deform_conv", DFConv2d=None)
    adet_layers.__dict__.update(DFConv2d=None, NaiveGroupNorm=None, IOULoss=lambda loss_type: None)
    adet_layers.ml_nms = load("adet.layers.ml_nms", a("layers/ml_nms.py")).ml_nms
    adet_layers.conv_with_kaiming_uniform = load("adet.layers.conv_with_kaiming_uniform",
                                                 a("layers/conv_with_kaiming_uniform.py")).conv_with_kaiming_uniform
    load("adet.utils.comm", a("utils/comm.py"))
    load("adet.modeling.fcos.fcos_outputs", a("modeling/fcos/fcos_outputs.py"))
    fcos = load("adet.modeling.fcos.fcos", a("modeling/fcos/fcos.py"))
    blender = load("adet.modeling.blendmask.blender", a("modeling/blendmask/blender.py"))
    basis = load("adet.modeling.blendmask.basis_module", a("modeling/blendmask/basis_module.py"))
    return NS(FCOS=fcos.FCOS, Blender=blender.Blender, ProtoNet=basis.ProtoNet, ShapeSpec=layers.ShapeSpec,
              detector_postprocess=postprocessing.detector_postprocess, ROIPooler=poolers.ROIPooler)


def cfg(config):
    """The fields of adet/config/defaults.py + configs/BlendMask that these modules read."""
    levels = len(config["strides"])
    return NS(MODEL=NS(
        FCOS=NS(NUM_CLASSES=80, IN_FEATURES=["p%d" % (3 + i) for i in range(levels)],
                FPN_STRIDES=list(config["strides"]), PRIOR_PROB=0.01, INFERENCE_TH_TRAIN=0.05,
                INFERENCE_TH_TEST=0.05, NMS_TH=0.6, PRE_NMS_TOPK_TRAIN=1000, PRE_NMS_TOPK_TEST=1000,
                POST_NMS_TOPK_TRAIN=100, POST_NMS_TOPK_TEST=100, TOP_LEVELS=levels - 3,
                NORM="GN", USE_SCALE=False, BOX_QUALITY="ctrness", THRESH_WITH_CTR=True, LOSS_ALPHA=0.25,
                LOSS_GAMMA=2.0, LOSS_NORMALIZER_CLS="fg", LOSS_WEIGHT_CLS=1.0,
                SIZES_OF_INTEREST=[64, 128, 256, 512][:levels - 1], USE_RELU=True, USE_DEFORMABLE=False,
                NUM_CLS_CONVS=config["cls_convs"], NUM_BOX_CONVS=config["box_convs"],
                NUM_SHARE_CONVS=config["share_convs"], CENTER_SAMPLE=True, POS_RADIUS=1.5, LOC_LOSS_TYPE="giou",
                YIELD_PROPOSAL=False, YIELD_BOX_FEATURES=False),
        BLENDMASK=NS(ATTN_SIZE=14, TOP_INTERP="bilinear", BOTTOM_RESOLUTION=56, POOLER_TYPE="ROIAlignV2",
                     POOLER_SAMPLING_RATIO=1, POOLER_SCALES=(0.25,), INSTANCE_LOSS_WEIGHT=1.0, VISUALIZE=False),
        BASIS_MODULE=NS(NAME="ProtoNet", NUM_BASES=4, LOSS_ON=False, CONVS_DIM=128, IN_FEATURES=["p3", "p4", "p5"],
                        NORM="SyncBN", NUM_CONVS=config["basis_convs"], COMMON_STRIDE=8, NUM_CLASSES=80,
                        LOSS_WEIGHT=0.3)))


def loaded(module, w, prefix):
    state = {k[len(prefix):]: v for k, v in w.items() if k.startswith(prefix)}
    missing, unexpected = module.load_state_dict(state, strict=False)
    missing = [k for k in missing if not k.endswith("num_batches_tracked")]
    assert not missing and not unexpected, (missing, unexpected)
    return module.eval()


def upstream_run(up, w, config, pixels, r):
    """BlendMask.forward's inference path from the FPN levels on, with the upstream modules."""
    c = cfg(config)
    names = c.MODEL.FCOS.IN_FEATURES
    features = dict(zip(names, r["levels"]))
    shapes = {n: up.ShapeSpec(channels=256, stride=s) for n, s in zip(names, config["strides"])}
    fcos = loaded(up.FCOS(c, shapes), w, "proposal_generator.")
    basis = loaded(up.ProtoNet(c, shapes), w, "basis_module.")
    top_layer = loaded(nn.Conv2d(256, 784, 3, 1, 1), w, "top_layer.")
    images = NS(image_sizes=[r["resized"]])
    bases = basis(features)[0]["bases"]
    proposals, _ = fcos(images, features, None, top_layer)
    detections, _ = up.Blender(c)(bases, proposals, None)
    return bases[0], up.detector_postprocess(detections[0], *pixels.shape[:2])


def compare(name, r, bases, result):
    same_count = len(result) == len(r["scores"])
    print("%s: bases max |diff| %.3g; %d detections upstream, %d reference" % (
        name, float((bases - r["bases"]).abs().max()), len(result), len(r["scores"])))
    assert same_count
    box_diff = float((result.pred_boxes.tensor - r["boxes"]).abs().max())
    score_diff = float((result.scores - r["scores"]).abs().max())
    classes = bool((result.pred_classes == r["classes"]).all())
    pixels = int((result.pred_masks.to(torch.uint8) != r["masks"]).sum())
    print("  boxes max |diff| %.3g px, scores %.3g, classes equal %s, mask pixels differing %d of %d" % (
        box_diff, score_diff, classes, pixels, r["masks"].numel()))
    assert box_diff == 0 and score_diff == 0 and classes and pixels == 0


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("adelaidet")
    parser.add_argument("detectron2")
    args = parse_arguments(parser)
    torch.set_num_threads(2)
    up = load_upstream(args.adelaidet, args.detectron2)
    pixels = np.array(Image.open(os.path.join(args.shared, "data", IMAGE)).convert("RGB"))
    for name in args.configs:
        config = ref.CONFIGS[name]
        w = build(args.shared, name, {})
        with torch.no_grad():
            r = ref.run(w, config, pixels)
            compare(name, r, *upstream_run(up, w, config, pixels, r))


if __name__ == "__main__":
    main()
