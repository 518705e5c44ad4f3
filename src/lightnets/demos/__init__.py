"""Teaching demonstrations, apart from the library core: the quick-start run on Indian Pines
(``make demo``) and why predictions change between calls when dropout is left on, for
hyperspectral maps (``lightnets hsi dropout``) and for images (``lightnets experiment
dropout``)."""
