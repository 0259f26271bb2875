BvaluesJ$°{?Vxg?h¢¾<e@@wó?oò*@

@c¬@