
BscaleJ=r=•:|=k=<½:š9