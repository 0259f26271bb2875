B
zero_pointJiqi