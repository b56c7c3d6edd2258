// The pause container of the Kind node image: a static binary that blocks (see main.go).
module dirtk.local/kind-pause

go 1.26.0
