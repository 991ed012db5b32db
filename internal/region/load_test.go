package region_test

import (
	"context"
	"strings"
	"testing"

	"github.com/canbao/canbao/internal/actor"
	"github.com/canbao/canbao/internal/pgtest"
	"github.com/canbao/canbao/internal/region"
)

func TestImportIsIdempotent(t *testing.T) {
	t.Parallel()
	db, _ := pgtest.New(t)
	ctx := context.Background()
	fsys := region.Embedded()
	files, err := region.FilesIn(fsys, ".")
	if err != nil {
		t.Fatal(err)
	}
	n, err := region.Import(ctx, db, fsys, files, "440981")
	if err != nil {
		t.Fatal(err)
	}
	// 1 province + 1 city + 1 county + 28 townships + 491 villages (高州 in china-division 2.7.0)
	var count int
	if err := db.QueryRow(ctx, `SELECT count(*) FROM region WHERE code <> ''`).Scan(&count); err != nil {
		t.Fatal(err)
	}
	if n != count || count < 500 {
		t.Fatalf("imported %d, table holds %d", n, count)
	}
	again, err := region.Import(ctx, db, fsys, files, "440981")
	if err != nil || again != 0 {
		t.Fatalf("second import changed %d rows (err %v), want 0", again, err)
	}
	s := region.NewStore(db)
	path, err := s.Path(ctx, "440981107204")
	if err != nil || len(path) != 6 || !strings.HasPrefix(path[5].Name, "镇江村") || path[2].Name != "茂名市" {
		t.Fatalf("path = %+v, %v", path, err)
	}
	if _, err := s.Get(ctx, actor.Actor{Role: actor.Township, Region: "440981107"}, "440981002"); err == nil {
		t.Error("Get outside scope must fail as not found")
	}
	kids, err := s.Children(ctx, "440981")
	if err != nil || len(kids) == 0 || kids[0].Children == 0 {
		t.Fatalf("children = %+v, %v", kids, err)
	}
}
