Bsum_float32J°|x¿eÞ?ÚRú>
º”¿ÎRž?X°¾