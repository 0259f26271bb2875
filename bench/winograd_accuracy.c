// Accuracy of Vigil's two convolution kernels (Sources/CVigilKernels) against a double-precision
// reference: a 3x3, pad-1 convolution of random inputs in [-1, 1], with weights in [-1, 1] scaled by
// 1/sqrt(fan-in) ("He") or not ("unit"). Prints the RMS output, the largest absolute error of the direct
// kernel and of Winograd F(2x2, 3x3), and how many outputs each puts outside atol 1e-5 + rtol 1e-4.
// Built and run by bench/winograd_accuracy.sh. Usage: winograd_accuracy N C M H SCALED(0|1)
#include "vigil_kernels.h"
#include <stdio.h>
#include <stdlib.h>
#include <math.h>
int main(int argc,char**argv){
  if (argc < 6) { fprintf(stderr, "usage: winograd_accuracy N C M H SCALED\n"); return 2; }
  int n=atoi(argv[1]),c=atoi(argv[2]),m=atoi(argv[3]),h=atoi(argv[4]),scaled=atoi(argv[5]); int w=h;
  int ph=h+2,pw=w+2; long k=(long)c*9; srand(7);
  float *x=calloc((size_t)n*c*ph*pw,4);
  for(int im=0;im<n;im++)for(int ch=0;ch<c;ch++)for(int r=1;r<ph-1;r++)for(int q=1;q<pw-1;q++) x[((long)(im*c+ch)*ph+r)*pw+q]=(rand()/(float)RAND_MAX)*2-1;
  float sc = scaled? 1.0f/sqrtf(k):1.0f;
  float *wt=malloc(sizeof(float)*m*k); for(long i=0;i<m*k;i++) wt[i]=((rand()/(float)RAND_MAX)*2-1)*sc;
  float *pd=aligned_alloc(64,(sizeof(float)*vigil_conv_packed_weight_count(m,k)+127)/64*64); vigil_conv_pack_weights(wt,m,k,pd);
  float *pwg=aligned_alloc(64,(sizeof(float)*vigil_winograd_packed_weight_count(m,c)+127)/64*64); vigil_winograd_pack_weights(wt,m,c,pwg);
  int64_t *off=malloc(8*k); long r=0; for(int ci=0;ci<c;ci++)for(int kh=0;kh<3;kh++)for(int kw=0;kw<3;kw++) off[r++]=(long)ci*ph*pw+kh*pw+kw;
  long ysz=(long)n*m*h*w; float *yd=malloc(4*ysz),*yw=malloc(4*ysz);
  long panels=(m+15)/16;
  float *wsd=aligned_alloc(64,(4*vigil_conv_workspace_count(panels)+127)/64*64), *wsw=aligned_alloc(64,(4*vigil_winograd_workspace_count(c)+127)/64*64);
  vigil_conv_problem p={off,k,pw,(long)c*ph*pw,h,w,1,1,m,h*w,(long)m*h*w,0,0,0};
  vigil_winograd_problem q={c,m,pw,(long)ph*pw,(long)c*ph*pw,h,w,h*w,(long)m*h*w,0,0,0};
  vigil_conv_compute(&p,x,pd,0,0,yd,0,(long)n*h*w,0,panels,wsd);
  vigil_winograd_compute(&q,x,pwg,0,0,yw,0,(long)n*(h/2)*(w/2),0,panels,wsw);
  double ed=0,ew=0,ymax=0,ss=0, fd=0, fw=0;
  for(int im=0;im<n;im++)for(int o=0;o<m;o++)for(int yy=0;yy<h;yy++)for(int xx=0;xx<w;xx++){
    double acc=0; for(int ch=0;ch<c;ch++)for(int kh=0;kh<3;kh++)for(int kw=0;kw<3;kw++) acc+=(double)x[((long)(im*c+ch)*ph+yy+kh)*pw+xx+kw]*wt[((long)o*c+ch)*9+kh*3+kw];
    long i=((long)(im*m+o)*h+yy)*w+xx; double a=fabs(yd[i]-acc), b=fabs(yw[i]-acc);
    if(a>ed)ed=a; if(b>ew)ew=b; if(fabs(acc)>ymax)ymax=fabs(acc); ss+=acc*acc;
    double tol=1e-5+1e-4*fabs(acc); if(a>tol)fd++; if(b>tol)fw++;
  }
  printf("n%d c%d m%d h%d %s: rms|y| %.3g  max err direct %.2e winograd %.2e (x%.1f)  outside 1e-5/1e-4: direct %.0f winograd %.0f of %ld\n",n,c,m,h,scaled?"He":"unit",sqrt(ss/ysz),ed,ew,ew/ed,fd,fw,ysz);
}
