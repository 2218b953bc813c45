// Single-thread CPU-time comparison of TensorKit's SGEMM (_TensorKitGEMM) and OpenBLAS on the
// convolution GEMM shapes, plus a quick float64 correctness sweep. CPU time of the calling thread
// (CLOCK_THREAD_CPUTIME_ID) is what a shared, loaded machine disturbs least; the authoritative
// figures are `audiocnn bench gemm` and the XCTest `GEMMTests`. Build and run from the repository root:
//   clang -O2 -I Sources/Shims/_TensorKitGEMM/include Benchmarks/gemm_cputime.c \
//     Sources/Shims/_TensorKitGEMM/gemm.c -lopenblas -lm -lpthread -o /tmp/gemm_cputime
//   /tmp/gemm_cputime                                  # OpenBLAS as the environment pins it
//   OPENBLAS_CORETYPE=SKYLAKEX /tmp/gemm_cputime       # against OpenBLAS's AVX-512 kernels
// Environment: ROUNDS=N (best of N, default 40), NOCHECK=1 (skip the correctness sweep).
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cblas.h>
#include "_TensorKitGEMM.h"
static double now(){struct timespec t;clock_gettime(CLOCK_THREAD_CPUTIME_ID,&t);return t.tv_sec+t.tv_nsec*1e-9;}
static void ref(int ta,int tb,long m,long n,long k,float al,const float*a,long lda,const float*b,long ldb,float be,double*c,const float*c0,long ldc){
 for(long i=0;i<m;i++)for(long j=0;j<n;j++){double s=0;for(long p=0;p<k;p++){double x=ta?a[p*lda+i]:a[i*lda+p];double y=tb?b[j*ldb+p]:b[p*ldb+j];s+=x*y;}
  c[i*ldc+j]=al*s+(be==0?0:be*(double)c0[i*ldc+j]);}}
int check(int ta,int tb,long m,long n,long k,float be){
 long lda=(ta?m:k)+3, ldb=(tb?k:n)+5, ldc=n+2;
 long asz=(ta?k:m)*lda, bsz=(tb?n:k)*ldb, csz=m*ldc;
 float*a=malloc(asz*4),*b=malloc(bsz*4),*c=malloc(csz*4),*c0=malloc(csz*4);double*r=malloc(csz*8);
 for(long i=0;i<asz;i++)a[i]=rand()/(float)RAND_MAX-0.5f; for(long i=0;i<bsz;i++)b[i]=rand()/(float)RAND_MAX-0.5f;
 for(long i=0;i<csz;i++)c0[i]=c[i]=rand()/(float)RAND_MAX-0.5f;
 if(be==0) for(long i=0;i<csz;i++) c[i]=0.0f/0.0f;
 ref(ta,tb,m,n,k,1.0f,a,lda,b,ldb,be,r,c0,ldc);
 tkgemm_sgemm(ta,tb,m,n,k,1.0f,a,lda,b,ldb,be,c,ldc);
 double worst=0; for(long i=0;i<m;i++)for(long j=0;j<n;j++){double e=fabs(c[i*ldc+j]-r[i*ldc+j])/(1e-3+sqrt(k)*0.3); if(!(e<=worst))worst=e; }
 for(long i=0;i<m;i++)for(long j=n;j<ldc;j++) if(c[i*ldc+j]!=c0[i*ldc+j] && !(be==0)) {printf("pad clobbered\n");worst=1e9;}
 free(a);free(b);free(c);free(c0);free(r); if(worst>1e-5){printf("FAIL %d%d %ld %ld %ld be %g err %g\n",ta,tb,m,n,k,be,worst);return 1;} return 0;}
#include <math.h>
typedef struct{const char*name;int ta,tb;long m,n,k;}S;
int main(int argc,char**argv){ int rounds=getenv("ROUNDS")?atoi(getenv("ROUNDS")):40; if(getenv("NOCHECK")) goto bench;
 int fails=0; long sz[]={1,7,8,9,13,31,33,47,48,49,97,130};
 for(int ta=0;ta<2;ta++)for(int tb=0;tb<2;tb++)for(int i=0;i<12;i++)for(int j=0;j<12;j+=1)for(int l=0;l<12;l+=3){float be=(i+j+l)%3==0?0:((i+j+l)%3==1?1:0.5f);fails+=check(ta,tb,sz[i],sz[j],sz[l],be);}
 fails+=check(0,0,100,700,600,1); fails+=check(1,0,600,100,300,0);fails+=check(0,1,64,600,900,0);
 printf("fails %d\n",fails);
 bench:;
 S shapes[]={{"wino1 NN",0,0,64,864,64},{"wino2 NN",0,0,128,648,128},{"wino3 NN",0,0,256,560,256},{"wino4 NN",0,0,512,224,512},
  {"wgrad1 NT",0,1,64,64,864},{"wgrad2 NT",0,1,128,128,648},{"wgrad3 NT",0,1,256,256,560},{"wgrad4 NT",0,1,512,512,224},
  {"stem NN",0,0,64,2048,49},{"s2conv NN",0,0,128,2048,576},{"s2 dx TN",1,0,576,2048,128},{"s2 dw NT",0,1,128,576,2048},
  {"l4s2 NN",0,0,512,2048,2304},{"big",0,0,1024,1024,1024}};
 openblas_set_num_threads(1);
 for(int s=0;s<14;s++){S h=shapes[s];long lda=h.ta?h.m:h.k, ldb=h.tb?h.k:h.n;
  float*a=malloc(h.m*h.k*4),*b=malloc(h.k*h.n*4),*c=malloc(h.m*h.n*4);for(long i=0;i<h.m*h.k;i++)a[i]=0.1f;for(long i=0;i<h.k*h.n;i++)b[i]=0.2f;memset(c,0,h.m*h.n*4);
  double fl=2.0*h.m*h.n*h.k; int reps=(int)(1e8/fl)+1; double best1=1e9,best2=1e9;
  for(int r=0;r<rounds;r++){double t=now();for(int q=0;q<reps;q++)tkgemm_sgemm(h.ta,h.tb,h.m,h.n,h.k,1,a,lda,b,ldb,0,c,h.n);t=(now()-t)/reps;if(t<best1)best1=t;
   t=now();for(int q=0;q<reps;q++)cblas_sgemm(CblasRowMajor,h.ta?CblasTrans:CblasNoTrans,h.tb?CblasTrans:CblasNoTrans,h.m,h.n,h.k,1,a,lda,b,ldb,0,c,h.n);t=(now()-t)/reps;if(t<best2)best2=t;}
  printf("%-10s %4ldx%4ldx%4ld  ours %6.1f  openblas %6.1f GFLOP/s  ratio %.2f\n",h.name,h.m,h.n,h.k,fl/best1/1e9,fl/best2/1e9,best2/best1);
  free(a);free(b);free(c);}
}
