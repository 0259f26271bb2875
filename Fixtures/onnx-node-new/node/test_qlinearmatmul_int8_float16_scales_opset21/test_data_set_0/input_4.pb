
Bb_scaleJ!