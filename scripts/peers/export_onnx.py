#!/usr/bin/python3
"""Exports the dense ONNX models `shears bench infer --ort FILE` times ONNX Runtime on, until
Shears writes its own ONNX: ResNet-32 (option A, 3x32x32) and MobileNet-V1 (width 1.0,
3x224x224, the zoo's definition as in mobilenet_v1_infer.py), eval mode, random weights,
batch 1, opset 13. Generated files, not committed.

usage: /usr/bin/python3 scripts/peers/export_onnx.py OUT_DIR
       -> OUT_DIR/resnet32.onnx, OUT_DIR/mobilenet-v1.onnx
"""
import os
import sys

import torch
import torch.nn as nn

import cifar_train  # noqa: E402  (the model classes; its main() runs only as a script)

if len(sys.argv) != 2:
    sys.exit("usage: export_onnx.py OUT_DIR")
out = sys.argv[1]


def mobilenet_v1():
    def conv_bn(cin, cout, k, stride, groups=1):
        return [nn.Conv2d(cin, cout, k, stride, k // 2, groups=groups, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True)]
    blocks = [(64, 1), (128, 2), (128, 1), (256, 2), (256, 1), (512, 2)] + [(512, 1)] * 5 + [(1024, 2), (1024, 1)]
    layers, cin = conv_bn(3, 32, 3, 2), 32
    for cout, s in blocks:
        layers += conv_bn(cin, cin, 3, s, groups=cin) + conv_bn(cin, cout, 1, 1)
        cin = cout
    return nn.Sequential(*layers, nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(1024, 1000, bias=False))


os.makedirs(out, exist_ok=True)
torch.manual_seed(0)
for name, model, hw in (("resnet32", cifar_train.ResNet32(), 32), ("mobilenet-v1", mobilenet_v1(), 224)):
    model.eval()
    path = os.path.join(out, name + ".onnx")
    tmp = path + ".tmp"
    torch.onnx.export(model, torch.randn(1, 3, hw, hw), tmp, input_names=["input"], output_names=["logits"], opset_version=13)
    os.replace(tmp, path)  # atomic: a reader never sees half a file
    print(f"{path} {os.path.getsize(path)} bytes")
