
ByJ1HЫТ[IаU'ФТTЂПЕRгФfQ|Р
N