#!/usr/bin/env bash
# Imports a BVH into Blender headless (Debian's `blender` package: apt-get install blender; not in
# setup.sh, too big for CI) and prints what Blender made of it: frames, fps, bones, and the world
# position of the LeftHand bone's head at the last frame (file units; Blender's z up, so (x, -z, y)
# of the BVH's y-up coordinates).
#   bash tools/check/blender_import.sh dance.bvh
set -euo pipefail
bvh=${1:?usage: blender_import.sh FILE.bvh}
command -v blender >/dev/null || { echo "blender not installed (apt-get install blender)" >&2; exit 2; }
BVH=$(realpath "$bvh") blender -b --factory-startup --python-exit-code 1 --python-expr '
import bpy, builtins, os
# Debian 12 builds Blender 3.4 against Python 3.11, where the importer'"'"'s open(path, "rU") fails
# ("invalid mode"); the U flag has meant nothing since Python 3.
_open = builtins.open
builtins.open = lambda f, mode="r", *a, **k: _open(f, mode.replace("U", ""), *a, **k)
path = os.environ["BVH"]
bpy.ops.import_anim.bvh(filepath=path, update_scene_fps=True, update_scene_duration=True, rotate_mode="NATIVE")
sc = bpy.context.scene
arm = [o for o in sc.objects if o.type == "ARMATURE"][0]
keys = len(arm.animation_data.action.fcurves[0].keyframe_points)
span = sc.frame_end - sc.frame_start + 1
fps = sc.render.fps / sc.render.fps_base
sc.frame_set(int(max(k.co[0] for k in arm.animation_data.action.fcurves[0].keyframe_points)))
hand = arm.matrix_world @ arm.pose.bones["LeftHand"].head
print(f"blender: {os.path.basename(path)}: {keys} frames (keyframes; scene {sc.frame_start}..{sc.frame_end}) at {fps:g} fps, {len(arm.data.bones)} bones; LeftHand at the last frame: ({hand.x:.2f}, {hand.y:.2f}, {hand.z:.2f})")
' 2>&1 | grep -E "^blender:|Error|error" 
