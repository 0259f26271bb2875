
ByJlA?d<jA”AÃAÝ@rA>%A¢AÌ@p»»X>Å=ö<”A‰A1<=Ç99AzA”AÁAH:hA AÚ>÷>v@o>'@¬9u7Í5¼AŽ4R?¾=AŒAUº
¸%?>µ„@¼AÖ@?¢?Û@yA