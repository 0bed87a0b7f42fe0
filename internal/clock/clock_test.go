package clock

import (
	"slices"
	"testing"
	"time"
)

func TestFake(t *testing.T) {
	start := time.Unix(1000, 0)
	c := NewFake(start)
	var got []string
	at := func(name string) func() {
		return func() { got = append(got, name+"@"+c.Now().Sub(start).String()) }
	}
	c.AfterFunc(3*time.Second, at("c"))
	c.AfterFunc(time.Second, func() {
		at("a")()
		c.AfterFunc(time.Second, at("b")) // due at 2s, before c
	})
	stopped := c.AfterFunc(2500*time.Millisecond, at("x"))
	if !stopped.Stop() || stopped.Stop() {
		t.Fatal("Stop: want true once, then false")
	}
	c.Add(2 * time.Second)
	if want := []string{"a@1s", "b@2s"}; !slices.Equal(got, want) {
		t.Fatalf("after 2s ran %v, want %v", got, want)
	}
	if c.Now() != start.Add(2*time.Second) || c.Pending() != 1 {
		t.Fatalf("now %v pending %d", c.Now(), c.Pending())
	}
	c.Set(start) // never backwards
	c.Add(time.Hour)
	if want := []string{"a@1s", "b@2s", "c@3s"}; !slices.Equal(got, want) || c.Pending() != 0 {
		t.Fatalf("ran %v, pending %d", got, c.Pending())
	}
	if c.Now() != start.Add(time.Hour+2*time.Second) {
		t.Fatalf("now %v", c.Now().Sub(start))
	}
}
