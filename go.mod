module github.com/kgen-dev/kgen

go 1.26
