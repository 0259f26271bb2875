BselfJ0PQ™½Vp¯¿µ?Ø¾Ü¾Wbø¿RZBÀ¸ot>@
½f¡Ë¿‡Ÿ¾bé$¾–'¿