//! Sites: a kube context, its Trident backends and the ONTAP cluster behind them.
