#!/usr/bin/env python3
# How much --temperature costs and how different two seeds make the dance: 8 songs of the
# beats-dev TUNING split, seeds 1 and 2, temperatures 0..0.3. Run from the repo root after
# tools/setup.sh:  python3 tools/bench/temperature.py
import json,subprocess,os,sys
D='../shared/data/beats-dev'
names=sorted(f[:-5] for f in os.listdir(D) if f.endswith('.flac'))
report=set(names[2::3]); tune=[n for n in names if n not in report]
songs=tune[:8]
out=os.environ.get("OUT","/tmp/choreo-temperature")
def run(song,T,seed):
    p=f'{out}/{song}_{T}_{seed}.json'
    r=subprocess.run(['target/release/choreo','dance','--song',f'{D}/{song}.flac','--temperature',str(T),'--seed',str(seed),'--out',p,'--json'],capture_output=True,text=True)
    j=json.loads(r.stdout); seq=json.load(open(p))
    prov=seq.get('provenance')
    return j,prov
print("T      audio_dist  vis_seams  hit   BAS   frac_frames_differ(seed1 vs 2)")
for T in [0,0.02,0.05,0.1,0.2,0.3]:
    ad=[];vs=[];hr=[];bas=[];diff=[]
    for s in songs:
        a,pa=run(s,T,1); b,pb=run(s,T,2)
        for j in (a,b):
            ad.append(j['summary']['mean_audio_distance']); vs.append(j['metrics']['visible_seams']); hr.append(j['metrics']['hit_rate']); bas.append(j['metrics']['beat_align_score'])
        n=min(len(pa),len(pb)); diff.append(sum(1 for i in range(n) if pa[i]!=pb[i])/n)
    m=lambda v:sum(v)/len(v)
    print(f"{T:<6} {m(ad):.4f}      {m(vs):.2f}      {m(hr):.3f} {m(bas):.3f} {m(diff):.3f}")
