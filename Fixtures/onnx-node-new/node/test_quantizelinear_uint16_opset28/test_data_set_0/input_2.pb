B
zero_pointJ0u